package main

import (
	"slices"
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
