package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// permissionsVar narrows or widens what the function may do, with Deno's own
// permission flags. It replaces the default set whole.
const permissionsVar = "DENO_LAMBDA_PERMISSIONS"

// permissionFlag matches the Deno flags DENO_LAMBDA_PERMISSIONS accepts.
var permissionFlag = regexp.MustCompile(`^(-A|--allow-all|--(allow|deny)-(read|write|net|env|sys|run|ffi|import)(=\S+)?)$`)

// runtimeEnv is what runtime.js itself reads (and _X_AMZN_TRACE_ID, which it
// sets per invocation), granted whatever DENO_LAMBDA_PERMISSIONS says.
var runtimeEnv = []string{
	"AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_FUNCTION_NAME",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_X_AMZN_TRACE_ID",
}

// defaultPermissions is what Lambda code expects: the network, the
// environment, system information (which SDKs read for their user agent),
// reading the function, the layers and TMPDIR, and writing TMPDIR.
func defaultPermissions(cfg config) []string {
	return []string{
		"--allow-net", "--allow-env", "--allow-sys",
		"--allow-read=" + strings.Join([]string{cfg.taskRoot, cfg.layerDir, cfg.tmpDir}, ","),
		"--allow-write=" + cfg.tmpDir,
	}
}

// parsePermissions reads DENO_LAMBDA_PERMISSIONS: whitespace-separated Deno
// permission flags, or the defaults when it is empty. A bare --deny-* flag for
// a permission the runtime itself needs is refused: Deno lets a denial beat
// every grant, so the runtime could not start. listens: the runtime serves on a
// loopback port (runtime1).
func parsePermissions(spec string, cfg config, listens bool) ([]string, error) {
	flags := strings.Fields(spec)
	if len(flags) == 0 {
		return defaultPermissions(cfg), nil
	}
	needs, what := runtimeNeeds(listens), "its bundle, control channel and settings"
	if listens {
		what = "its bundle, control channel, settings and bridge port on 127.0.0.1"
	}
	for _, f := range flags {
		if !permissionFlag.MatchString(f) {
			return nil, newInitError("Runtime.InvalidPermissions", fmt.Sprintf(
				"%s: %q is not a Deno permission flag: use flags such as --allow-net=api.example.com --allow-read=/var/task --deny-env=AWS_SECRET_ACCESS_KEY, or --allow-all",
				permissionsVar, f))
		}
		if kind, bare := strings.CutPrefix(f, "--deny-"); bare && slices.Contains(needs, kind) {
			return nil, newInitError("Runtime.InvalidPermissions", fmt.Sprintf(
				"%s: %s also denies what the runtime needs (%s), and a denial beats every grant: leave --allow-%s out instead, which grants nothing, or deny only some, as in --deny-%s=%s",
				permissionsVar, f, what, kind, kind, denyExample[kind]))
		}
	}
	return flags, nil
}

// denyExample shows a narrow denial of each kind, for the message above.
var denyExample = map[string]string{
	"read": "/var/task/secrets", "write": "/tmp/cache", "env": "AWS_SECRET_ACCESS_KEY", "net": "169.254.169.254",
}

// runtimePermissions are the runtime's own needs, added to the function's
// flags: reading the bundle (and its source map), writing its control
// channel (and for runtime2 reading its events channel), reading its settings,
// and for runtime1
// listening on a loopback port (which grants no connections). Deno unites two
// lists for one permission, but a list after a bare flag replaces it, so a
// need already covered by a bare flag (or --allow-all) is left out.
func runtimePermissions(function []string, cfg config, channel, events string, listens bool) []string {
	read, write := cfg.bundlePath+","+cfg.bundlePath+".map", channel
	if events != "" { // opened for reading, then unlinked
		read, write = read+","+events, write+","+events
	}
	lists := map[string]string{"read": read, "write": write, "env": strings.Join(runtimeEnv, ","), "net": "127.0.0.1:0"}
	var flags []string
	for _, kind := range runtimeNeeds(listens) {
		if !slices.ContainsFunc(function, func(f string) bool {
			return f == "-A" || f == "--allow-all" || f == "--allow-"+kind
		}) {
			flags = append(flags, "--allow-"+kind+"="+lists[kind])
		}
	}
	return flags
}

// runtimeNeeds names the permissions the runtime itself needs, in the order
// runtimePermissions grants them: net only for runtime1, which listens.
func runtimeNeeds(listens bool) []string {
	if listens {
		return []string{"read", "write", "env", "net"}
	}
	return []string{"read", "write", "env"}
}
