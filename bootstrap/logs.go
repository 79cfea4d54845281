package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// logger writes the runtime's own records in the function's log format, so
// they sit in CloudWatch beside the function's console output.
type logger struct {
	mu   sync.Mutex
	out  io.Writer
	json bool
	now  func() time.Time
}

func newLogger(out io.Writer, jsonFormat bool) *logger {
	return &logger{out: out, json: jsonFormat, now: time.Now}
}

// failure logs an error the way the Node.js runtime does: a label ("Invoke
// Error") and the error body, which JSON records carry as fields.
func (l *logger) failure(requestID, label string, fe *functionError) {
	if l.json {
		l.write("ERROR", requestID, label, fe)
		return
	}
	l.write("ERROR", requestID, label+" \t"+string(fe.Body()), nil)
}

func (l *logger) errorf(requestID, format string, args ...any) {
	l.write("ERROR", requestID, fmt.Sprintf(format, args...), nil)
}

func (l *logger) warnf(requestID, format string, args ...any) {
	l.write("WARN", requestID, fmt.Sprintf(format, args...), nil)
}

func (l *logger) write(level, requestID, message string, fe *functionError) {
	ts := l.now().UTC().Format("2006-01-02T15:04:05.000Z")
	var line string
	if l.json {
		rec := map[string]any{"timestamp": ts, "level": level, "message": message}
		if requestID != "" {
			rec["requestId"] = requestID
		}
		if fe != nil {
			rec["errorType"], rec["errorMessage"], rec["stackTrace"] = fe.Type, fe.Message, fe.StackTrace
		}
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // as written: <, > and & escaped would be six bytes each
		_ = enc.Encode(rec)      // strings and string slices always marshal
		line = strings.TrimSuffix(b.String(), "\n")
	} else {
		if requestID == "" {
			requestID = "undefined"
		}
		// One record per line: CloudWatch splits on \n but not on \r.
		line = ts + "\t" + requestID + "\t" + level + "\t" + strings.ReplaceAll(message, "\n", "\r")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.out, line)
}
