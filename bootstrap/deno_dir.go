package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// preparedDenoDir is the name of a prepared Deno cache (V8 code cache and
// friends) shipped in the runtime layer or the function zip, one subdirectory
// per architecture: V8 refuses code compiled for another one.
const preparedDenoDir = "deno-dir"

// lambdaArch is this executable's architecture in Lambda's naming: the
// subdirectory of deno-dir/ its Deno can use.
var lambdaArch = map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]

// prepareDenoDir makes DENO_DIR writable under TMPDIR and seeds it from a
// prepared cache, the function's taking precedence over the layer's. Lambda
// keeps /tmp across environment resets, so an existing DENO_DIR is left as is.
func prepareDenoDir(cfg config) error {
	if _, err := os.Stat(cfg.denoDir); err == nil {
		return blockOriginStorage(cfg.denoDir)
	}
	if err := os.MkdirAll(cfg.tmpDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", cfg.tmpDir, err)
	}
	staging, err := os.MkdirTemp(cfg.tmpDir, ".deno-dir-")
	if err != nil {
		return fmt.Errorf("create DENO_DIR: %w", err)
	}
	// The function's first: a file it ships is never copied from the layer too.
	for _, root := range []string{cfg.taskRoot, cfg.layerDir} {
		src := filepath.Join(root, preparedDenoDir, lambdaArch)
		if st, err := os.Stat(src); err == nil && st.IsDir() {
			if err := copyTree(src, staging); err != nil {
				os.RemoveAll(staging)
				return fmt.Errorf("copy prepared cache %s: %w", src, err)
			}
		}
	}
	if err := blockOriginStorage(staging); err != nil {
		os.RemoveAll(staging)
		return err
	}
	// Rename last, so a half-copied cache is never taken for a prepared one.
	if err := os.Rename(staging, cfg.denoDir); err != nil {
		os.RemoveAll(staging)
		return fmt.Errorf("create DENO_DIR: %w", err)
	}
	return nil
}

// originStorageDir is where Deno keeps localStorage and the Cache API's
// entries for every process that shares the DENO_DIR.
const originStorageDir = "location_data"

// blockOriginStorage puts a file where Deno would make originStorageDir, so
// that no process can keep anything there for another to read: runtime2's
// processes serve one invocation each, and Node.js has no such storage.
// runtime.js also removes the globals, so that functions find them absent
// rather than failing.
func blockOriginStorage(denoDir string) error {
	path := filepath.Join(denoDir, originStorageDir)
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("block origin storage: %w", err)
	}
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		return fmt.Errorf("block origin storage: %w", err)
	}
	return nil
}

// copyTree copies regular files and directories from src into dst, leaving
// files dst already has.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return nil // links and devices are not part of a cache
	})
}

func copyFile(src, dst string) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		out.Close()
		return err
	}
	defer in.Close()
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
