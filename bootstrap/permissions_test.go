package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParsePermissions(t *testing.T) {
	cfg := config{taskRoot: "/var/task", layerDir: "/opt", tmpDir: "/tmp"}
	tests := []struct {
		spec string
		want []string
		err  bool
	}{
		{"", []string{"--allow-net", "--allow-env", "--allow-sys", "--allow-read=/var/task,/opt,/tmp", "--allow-write=/tmp"}, false},
		{"  ", []string{"--allow-net", "--allow-env", "--allow-sys", "--allow-read=/var/task,/opt,/tmp", "--allow-write=/tmp"}, false},
		{"--allow-net=api.example.com --allow-read=/var/task", []string{"--allow-net=api.example.com", "--allow-read=/var/task"}, false},
		{"-A", []string{"-A"}, false},
		{"--allow-all --deny-env=AWS_SECRET_ACCESS_KEY", []string{"--allow-all", "--deny-env=AWS_SECRET_ACCESS_KEY"}, false},
		{"--allow-net --inspect", nil, true},
		{"--allow-reed=/tmp", nil, true},
		{"--allow-read= /tmp", nil, true},
		{"--v8-flags=--max-old-space-size=1", nil, true},
		{"--allow-all --deny-env", nil, true},
		{"--allow-read --deny-read", nil, true},
		{"--deny-write", nil, true},
		{"--deny-net", nil, true}, // runtime1's bridge port
		{"--deny-net=169.254.169.254 --deny-sys --deny-run", []string{"--deny-net=169.254.169.254", "--deny-sys", "--deny-run"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parsePermissions(tt.spec, cfg, true)
			if tt.err {
				var fe *functionError
				if !errors.As(err, &fe) || fe.Type != "Runtime.InvalidPermissions" {
					t.Fatalf("got %v, %v; want Runtime.InvalidPermissions", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRuntimePermissionsForEvents(t *testing.T) {
	got := runtimePermissions([]string{"--allow-net"}, config{bundlePath: "/b.js"}, "/tmp/ch", "/tmp/ev", false)
	want := []string{"--allow-read=/b.js,/b.js.map,/tmp/ev", "--allow-write=/tmp/ch,/tmp/ev",
		"--allow-env=" + strings.Join(runtimeEnv, ",")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRuntime2AllowsDenyingTheNetwork(t *testing.T) {
	cfg := config{taskRoot: "/var/task", layerDir: "/opt", tmpDir: "/tmp"}
	if got, err := parsePermissions("--deny-net", cfg, false); err != nil || !slices.Equal(got, []string{"--deny-net"}) {
		t.Errorf("got %v, %v; want --deny-net kept", got, err)
	}
	_, err := parsePermissions("--deny-net", cfg, true)
	if err == nil || !strings.Contains(err.Error(), "leave --allow-net out instead") {
		t.Errorf("runtime1: got %v, want advice to leave --allow-net out", err)
	}
}

func TestRuntimePermissions(t *testing.T) {
	env := "--allow-env=" + strings.Join(runtimeEnv, ",")
	read := "--allow-read=/var/task/f.bundle.js,/var/task/f.bundle.js.map"
	tests := []struct {
		name     string
		function []string
		listens  bool
		want     []string
	}{
		{"narrowed function, runtime1", []string{"--allow-net=example.com"}, true,
			[]string{read, "--allow-write=/tmp/ch", env, "--allow-net=127.0.0.1:0"}},
		{"runtime2 does not listen", []string{"--allow-read=/x"}, false,
			[]string{read, "--allow-write=/tmp/ch", env}},
		{"bare flags already cover the needs", []string{"--allow-net", "--allow-env", "--allow-write", "--allow-read"}, true, nil},
		{"--allow-all covers everything", []string{"--allow-all"}, true, nil},
		{"-A covers everything", []string{"-A", "--deny-net"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config{bundlePath: "/var/task/f.bundle.js"}
			if got := runtimePermissions(tt.function, cfg, "/tmp/ch", "", tt.listens); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
