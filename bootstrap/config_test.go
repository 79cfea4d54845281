package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSplitHandler(t *testing.T) {
	tests := []struct {
		handler, module, export string
		ok                      bool
	}{
		{"function.handler", "function", "handler", true},
		{"src/app.main", "src/app", "main", true},
		{"api.routes.get", "api", "routes.get", true},
		{"function", "", "", false},
		{".handler", "", "", false},
		{"function.", "", "", false},
		{"dir/", "", "", false},
		{"function.a.", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			module, export, err := splitHandler(tt.handler)
			if tt.ok != (err == nil) {
				t.Fatalf("splitHandler(%q) error = %v, want ok=%v", tt.handler, err, tt.ok)
			}
			if !tt.ok {
				var fe *functionError
				if !errors.As(err, &fe) || fe.Type != "Runtime.MalformedHandlerName" {
					t.Fatalf("got %v, want Runtime.MalformedHandlerName", err)
				}
				return
			}
			if module != tt.module || export != tt.export {
				t.Errorf("got %q, %q, want %q, %q", module, export, tt.module, tt.export)
			}
		})
	}
}

// layout makes a fake /opt and /var/task with the named files in them.
func layout(t *testing.T, files ...string) (opt, task string) {
	t.Helper()
	root := t.TempDir()
	opt, task = filepath.Join(root, "opt"), filepath.Join(root, "task")
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return opt, task
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		handler   string
		path      string
		wantType  string // init error type, "" for success
		wantDeno  string
		wantBundl string
	}{
		{"function bundle and layer deno", []string{"opt/runtime.js", "opt/bin/deno", "task/function.bundle.js", "opt/function.bundle.js"},
			"", "", "", "opt/bin/deno", "task/function.bundle.js"},
		{"falls back to the dummy bundle", []string{"opt/runtime.js", "opt/bin/deno", "opt/function.bundle.js"},
			"", "", "", "opt/bin/deno", "opt/function.bundle.js"},
		{"deno from PATH", []string{"opt/runtime.js", "usr/bin/deno", "task/app.bundle.js"},
			"app.handler", "usr/bin", "", "usr/bin/deno", "task/app.bundle.js"},
		{"no deno", []string{"opt/runtime.js", "task/function.bundle.js"},
			"", "nowhere", "Runtime.DenoNotFound", "", ""},
		{"no bundle", []string{"opt/runtime.js", "opt/bin/deno"},
			"missing.handler", "", "Runtime.ImportModuleError", "", ""},
		{"no runtime.js", []string{"opt/bin/deno", "task/function.bundle.js"},
			"", "", "Runtime.InvalidEntrypoint", "", ""},
		{"bad handler", []string{"opt/runtime.js", "opt/bin/deno"},
			"nodot", "", "Runtime.MalformedHandlerName", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, task := layout(t, tt.files...)
			root := filepath.Dir(opt)
			cfg, err := loadConfig(env(map[string]string{
				"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
				"_HANDLER":               tt.handler,
				"LAMBDA_TASK_ROOT":       task,
				"TMPDIR":                 filepath.Join(root, "tmp"),
				"PATH":                   filepath.Join(root, tt.path),
			}), filepath.Join(opt, "bootstrap"))
			if tt.wantType != "" {
				var fe *functionError
				if !errors.As(err, &fe) || fe.Type != tt.wantType {
					t.Fatalf("got error %v, want %s", err, tt.wantType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, tt.wantDeno); cfg.denoPath != want {
				t.Errorf("denoPath = %s, want %s", cfg.denoPath, want)
			}
			if want := filepath.Join(root, tt.wantBundl); cfg.bundlePath != want {
				t.Errorf("bundlePath = %s, want %s", cfg.bundlePath, want)
			}
			if want := filepath.Join(root, "tmp", "deno-dir"); cfg.denoDir != want {
				t.Errorf("denoDir = %s, want %s", cfg.denoDir, want)
			}
		})
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{}), "/opt/bootstrap")
	if !errors.Is(err, errNoRuntimeAPI) {
		t.Fatalf("got %v, want errNoRuntimeAPI", err)
	}
	if cfg.handler != "function.handler" || cfg.taskRoot != "/var/task" || cfg.denoDir != "/tmp/deno-dir" {
		t.Errorf("defaults = %q %q %q", cfg.handler, cfg.taskRoot, cfg.denoDir)
	}
}
