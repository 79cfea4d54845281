package main

import (
	"errors"
	"strings"
	"testing"
)

func TestConcurrencyOf(t *testing.T) {
	tests := []struct {
		max, workers          string
		cpus                  int
		wantConc, wantWorkers int
		wantErr               string // in the message; "" for none
	}{
		{"", "", 2, 0, 1, ""},       // on demand
		{"8", "", 2, 8, 2, ""},      // a worker per CPU
		{"1", "", 4, 1, 1, ""},      // never more workers than invocations
		{" 16 ", "3", 2, 16, 3, ""}, // as set
		{"64", "64", 2, 64, 64, ""}, // one invocation per worker
		{"0", "", 2, 0, 0, "from 1 to 1024"},
		{"1025", "", 2, 0, 0, "from 1 to 1024"},
		{"eight", "", 2, 0, 0, `AWS_LAMBDA_MAX_CONCURRENCY="eight"`},
		{"8", "9", 2, 0, 0, "DENO_LAMBDA_WORKERS=\"9\": expected a whole number from 1 to AWS_LAMBDA_MAX_CONCURRENCY (8)"},
		{"8", "0", 2, 0, 0, "from 1 to"},
		{"", "2", 2, 0, 0, "DENO_LAMBDA_WORKERS is set but AWS_LAMBDA_MAX_CONCURRENCY is not"},
	}
	for _, tt := range tests {
		env := map[string]string{"AWS_LAMBDA_MAX_CONCURRENCY": tt.max, "DENO_LAMBDA_WORKERS": tt.workers}
		conc, workers, err := concurrencyOf(func(k string) string { return env[k] }, func() int { return tt.cpus })
		if tt.wantErr != "" {
			var fe *functionError
			if !errors.As(err, &fe) || fe.Type != "Runtime.InvalidConcurrency" || !strings.Contains(fe.Message, tt.wantErr) {
				t.Errorf("%q/%q: got %v, want Runtime.InvalidConcurrency saying %q", tt.max, tt.workers, err, tt.wantErr)
			}
			continue
		}
		if err != nil || conc != tt.wantConc || workers != tt.wantWorkers {
			t.Errorf("%q/%q on %d CPUs: got %d, %d, %v; want %d, %d", tt.max, tt.workers, tt.cpus, conc, workers, err, tt.wantConc, tt.wantWorkers)
		}
	}
}

func TestQuotaCPUs(t *testing.T) {
	for in, want := range map[string]int{
		"200000 100000\n": 2,    // two CPUs' worth
		"150000 100000":   2,    // rounded up
		"50000 100000":    1,    // less than one
		"max 100000\n":    1024, // no quota
		"":                1024, // no cgroup v2
		"garbage":         1024,
	} {
		if got := quotaCPUs(in); got != want {
			t.Errorf("quotaCPUs(%q) = %d, want %d", in, got, want)
		}
	}
}
