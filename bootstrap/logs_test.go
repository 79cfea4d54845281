package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestLoggerFormats(t *testing.T) {
	fixed := func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC) }
	fe := newInitError("Runtime.ExitError", "exit status 3")

	var text bytes.Buffer
	l := newLogger(&text, false)
	l.now = fixed
	l.errorf("id-1", "two\nlines")
	l.failure("", "Init Error", fe)
	want := "2026-11-25T10:00:00.123Z\tid-1\tERROR\ttwo\rlines\n" +
		"2026-11-25T10:00:00.123Z\tundefined\tERROR\tInit Error \t" + string(fe.Body()) + "\n"
	if text.String() != want {
		t.Errorf("text:\n%q\nwant:\n%q", text.String(), want)
	}

	var js bytes.Buffer
	l = newLogger(&js, true)
	l.now = fixed
	l.failure("id-2", "Invoke Error", fe)
	var rec map[string]any
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"timestamp": "2026-11-25T10:00:00.123Z", "level": "ERROR", "requestId": "id-2",
		"message": "Invoke Error", "errorType": "Runtime.ExitError", "errorMessage": "exit status 3"} {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
}
