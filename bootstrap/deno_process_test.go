package main

import (
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
		"AWS_EXECUTION_ENV=AWS_Lambda_deno", "DENO_DIR=/tmp/deno-dir", "DENO_NO_UPDATE_CHECK=1", "DENO_NO_PROMPT=1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestDenoEnvKeepsAnExecutionEnvAndItsDenial(t *testing.T) {
	set := []string{"AWS_EXECUTION_ENV=AWS_Lambda_custom"}
	if got := denoEnv(set, config{denoDir: "/d"}); got[0] != set[0] || slices.Contains(got, "AWS_EXECUTION_ENV=AWS_Lambda_deno") {
		t.Errorf("a set AWS_EXECUTION_ENV was replaced: %v", got)
	}
	denied := config{denoDir: "/d", permissions: []string{"--allow-env", "--deny-env=AWS_EXECUTION_ENV"}}
	for _, kv := range denoEnv(nil, denied) {
		if strings.HasPrefix(kv, "AWS_EXECUTION_ENV=") {
			t.Errorf("a denied AWS_EXECUTION_ENV was added: %v", kv)
		}
	}
}
