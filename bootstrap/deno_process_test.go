package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDenoEnv(t *testing.T) {
	got := denoEnv([]string{
		"AWS_REGION=us-east-1", "_X_AMZN_TRACE_ID=Root=stale", "DENO_DIR=/ro", "_X_AMZN_TRACE_ID_NOT=kept",
		"AWS_SECRET_ACCESS_KEY=s",
	}, config{denoDir: "/tmp/deno-dir"})
	want := []string{"AWS_REGION=us-east-1", "_X_AMZN_TRACE_ID_NOT=kept", "AWS_SECRET_ACCESS_KEY=s",
		"DENO_DIR=/tmp/deno-dir", "DENO_NO_UPDATE_CHECK=1", "DENO_NO_PROMPT=1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestBridgeSocketIsPrivate(t *testing.T) {
	tmp := t.TempDir()
	path, err := bridgeSocket(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if dir := filepath.Dir(path); dir != filepath.Join(tmp, ".deno-lambda") {
		t.Errorf("socket in %s, want TMPDIR/.deno-lambda", dir)
	}
	info, err := os.Stat(filepath.Dir(path))
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v (%v), want 0700", info.Mode().Perm(), err)
	}
	if other, _ := bridgeSocket(tmp); other == path {
		t.Errorf("two sockets share the path %s", path)
	}
}

func TestBridgeSocketPathTooLong(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), strings.Repeat("d", 90))
	_, err := bridgeSocket(tmp)
	var fe *functionError
	if !errors.As(err, &fe) || fe.Type != "Runtime.InvalidTmpDir" || !strings.Contains(fe.Message, "set TMPDIR to a shorter directory") {
		t.Fatalf("got %v, want Runtime.InvalidTmpDir saying what to do", err)
	}
}
