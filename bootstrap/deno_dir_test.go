package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPrepareDenoDir(t *testing.T) {
	root := t.TempDir()
	cfg := config{layerDir: filepath.Join(root, "opt"), taskRoot: filepath.Join(root, "task"), tmpDir: filepath.Join(root, "tmp")}
	cfg.denoDir = filepath.Join(cfg.tmpDir, "deno-dir")
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	other := map[string]string{"x86_64": "arm64", "arm64": "x86_64"}[lambdaArch]
	write(filepath.Join(cfg.layerDir, "deno-dir", lambdaArch, "v8_code_cache_v2"), "layer")
	write(filepath.Join(cfg.layerDir, "deno-dir", lambdaArch, "gen", "a.js"), "layer-a")
	write(filepath.Join(cfg.taskRoot, "deno-dir", lambdaArch, "v8_code_cache_v2"), "function")
	write(filepath.Join(cfg.taskRoot, "deno-dir", other, "other-arch"), "other")

	if err := prepareDenoDir(cfg); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"v8_code_cache_v2": "function", "gen/a.js": "layer-a"} {
		got, err := os.ReadFile(filepath.Join(cfg.denoDir, file))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", file, got, err, want)
		}
	}
	for _, file := range []string{"other-arch", filepath.Join(other, "other-arch"), lambdaArch} {
		if _, err := os.Stat(filepath.Join(cfg.denoDir, file)); !os.IsNotExist(err) {
			t.Errorf("%s was copied: only %s's cache belongs in DENO_DIR", file, lambdaArch)
		}
	}
	// Origin storage has no directory to go to, even when a prepared cache
	// brought one.
	write(filepath.Join(cfg.layerDir, "deno-dir", lambdaArch, "location_data", "x", "local_storage"), "kept")
	os.RemoveAll(cfg.denoDir)
	if err := prepareDenoDir(cfg); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(cfg.denoDir, "location_data")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("location_data is %v (%v), want a file in the way of Deno's origin storage", st, err)
	}
	// Copies are writable: Deno updates its cache in place.
	if err := os.WriteFile(filepath.Join(cfg.denoDir, "v8_code_cache_v2"), []byte("new"), 0o644); err != nil {
		t.Errorf("copied cache is not writable: %v", err)
	}
	// A DENO_DIR that survived an environment reset is kept as it is.
	write(filepath.Join(cfg.taskRoot, "deno-dir", lambdaArch, "later"), "x")
	if err := prepareDenoDir(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.denoDir, "later")); !os.IsNotExist(err) {
		t.Errorf("existing DENO_DIR was overwritten")
	}
	// Its origin storage is blocked too, whatever an earlier start left there.
	os.Remove(filepath.Join(cfg.denoDir, "location_data"))
	write(filepath.Join(cfg.denoDir, "location_data", "web_cache", "x"), "kept")
	if err := prepareDenoDir(cfg); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(cfg.denoDir, "location_data")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("location_data in an existing DENO_DIR is %v (%v), want a file", st, err)
	}
}

func TestPrepareDenoDirWithoutPreparedCache(t *testing.T) {
	root := t.TempDir()
	cfg := config{layerDir: root, taskRoot: root, tmpDir: filepath.Join(root, "tmp")}
	cfg.denoDir = filepath.Join(cfg.tmpDir, "deno-dir")
	if err := prepareDenoDir(cfg); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(cfg.denoDir); err != nil || !st.IsDir() {
		t.Fatalf("DENO_DIR not created: %v", err)
	}
}
