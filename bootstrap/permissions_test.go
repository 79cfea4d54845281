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
		{"--deny-net", nil, true}, // the channel to Deno
		{"--deny-write", []string{"--deny-write"}, false},
		{"--deny-net=169.254.169.254 --deny-sys --deny-run", []string{"--deny-net=169.254.169.254", "--deny-sys", "--deny-run"}, false},
		{"--deny-net=127.0.0.1", nil, true},
		{"--deny-net=example.com,127.0.0.0/8", nil, true},
		{"--deny-net=127.0.0.1:2772,localhost", []string{"--deny-net=127.0.0.1:2772,localhost"}, false},
		{"--deny-env=AWS_LAMBDA_LOG_FORMAT", nil, true},
		{"--deny-env=AWS_LAMBDA_*", nil, true},
		{"--deny-env=AWS_SECRET_*,X", []string{"--deny-env=AWS_SECRET_*,X"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parsePermissions(tt.spec, cfg)
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

func TestABareDenialAdvisesLeavingTheGrantOut(t *testing.T) {
	_, err := parsePermissions("--deny-net", config{})
	if err == nil || !strings.Contains(err.Error(), "leave --allow-net out instead") {
		t.Errorf("got %v, want advice to leave --allow-net out", err)
	}
}

func TestRuntimePermissions(t *testing.T) {
	env := "--allow-env=" + strings.Join(runtimeEnv, ",")
	read := "--allow-read=/var/task/f.bundle.js,/var/task/f.bundle.js.map"
	denied := []string{"--deny-net=127.0.0.1:9001,127.0.0.0/8:9001,0.0.0.0:9001,[::1]:9001,[::]:9001",
		"--deny-read=/tmp/deno-dir", "--deny-write=/tmp/deno-dir"}
	tests := []struct {
		name     string
		function []string
		listens  bool
		want     []string
	}{
		{"narrowed function, runtime1", []string{"--allow-net=example.com"}, true,
			append([]string{read, env, "--allow-net=127.0.0.1:4000,127.0.0.1:0"}, denied...)},
		{"runtime2 only dials", []string{"--allow-read=/x"}, false,
			append([]string{read, env, "--allow-net=127.0.0.1:4000"}, denied...)},
		{"bare flags already cover the needs", []string{"--allow-net", "--allow-env", "--allow-read"}, true, denied},
		{"--allow-all covers everything and denies nothing", []string{"--allow-all"}, true, nil},
		{"-A covers everything and denies nothing", []string{"-A", "--deny-run"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config{bundlePath: "/var/task/f.bundle.js", denoDir: "/tmp/deno-dir", runtimeAPI: "127.0.0.1:9001",
				permissions: tt.function}
			if got := runtimePermissions(cfg, "127.0.0.1:4000", tt.listens); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeniesEnv(t *testing.T) {
	flags := []string{"--allow-all", "--deny-env=AWS_SECRET_ACCESS_KEY,DB_*"}
	for name, want := range map[string]bool{
		"AWS_SECRET_ACCESS_KEY": true, "DB_PASSWORD": true, "DB_": true,
		"AWS_SECRET_ACCESS_KEY_2": false, "AWS_ACCESS_KEY_ID": false, "XDB_X": false,
	} {
		if got := deniesEnv(flags, name); got != want {
			t.Errorf("deniesEnv(%s) = %v, want %v", name, got, want)
		}
	}
}
