package main

import (
	"fmt"
	"net"
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
// sets per invocation), granted whatever DENO_LAMBDA_PERMISSIONS says; and
// what @aws/lambda-invoke-store reads when it loads, in the AWS SDK or the
// function, to find the runtime's store.
var runtimeEnv = []string{
	"AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_FUNCTION_NAME",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_X_AMZN_TRACE_ID",
	"AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA", "AWS_LAMBDA_MAX_CONCURRENCY", "AWS_LAMBDA_BENCHMARK_MODE",
}

// runtimeNeeds names the permissions the runtime itself needs, in the order
// runtimePermissions grants them: reading the bundle, its settings, and
// dialling its channel (runtime1 also listens on a loopback port).
var runtimeNeeds = []string{"read", "env", "net"}

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
// permission flags, or the defaults when it is empty. A denial that would
// stop the runtime itself is refused, because Deno lets a denial beat every
// grant: a bare --deny-read, --deny-env or --deny-net, denying a variable
// runtime.js reads, or denying 127.0.0.1 on every port.
func parsePermissions(spec string, cfg config) ([]string, error) {
	flags := strings.Fields(spec)
	if len(flags) == 0 {
		return defaultPermissions(cfg), nil
	}
	for _, f := range flags {
		if !permissionFlag.MatchString(f) {
			return nil, newInitError("Runtime.InvalidPermissions", fmt.Sprintf(
				"%s: %q is not a Deno permission flag: use flags such as --allow-net=api.example.com --allow-read=/var/task --deny-env=AWS_SECRET_ACCESS_KEY, or --allow-all",
				permissionsVar, f))
		}
		if kind, bare := strings.CutPrefix(f, "--deny-"); bare && slices.Contains(runtimeNeeds, kind) {
			return nil, newInitError("Runtime.InvalidPermissions", fmt.Sprintf(
				"%s: %s also denies what the runtime needs (its bundle, settings and channel on 127.0.0.1), and a denial beats every grant: leave --allow-%s out instead, which grants nothing, or deny only some, as in --deny-%s=%s",
				permissionsVar, f, kind, kind, denyExample[kind]))
		}
		if names, ok := strings.CutPrefix(f, "--deny-env="); ok {
			for _, name := range runtimeEnv {
				if listed(names, name) {
					return nil, newInitError("Runtime.InvalidPermissions", fmt.Sprintf(
						"%s: %s denies %s, which the runtime itself reads: deny other variables only", permissionsVar, f, name))
				}
			}
		}
		if hosts, ok := strings.CutPrefix(f, "--deny-net="); ok && deniesLoopback(hosts) {
			return nil, newInitError("Runtime.InvalidPermissions", fmt.Sprintf(
				"%s: %s denies 127.0.0.1 on every port, where the runtime talks to Deno: deny single ports instead, as in --deny-net=127.0.0.1:2772",
				permissionsVar, f))
		}
	}
	return flags, nil
}

// denyExample shows a narrow denial of each kind, for the message above.
var denyExample = map[string]string{
	"read": "/var/task/secrets", "env": "AWS_SECRET_ACCESS_KEY", "net": "169.254.169.254",
}

// listed tells whether a comma-separated list of variable names lists name,
// as Deno reads it: an entry ending in * stands for every name it begins.
func listed(list, name string) bool {
	for entry := range strings.SplitSeq(list, ",") {
		if prefix, wild := strings.CutSuffix(entry, "*"); (wild && strings.HasPrefix(name, prefix)) || entry == name {
			return true
		}
	}
	return false
}

// deniesEnv tells whether the function's flags deny the variable name.
func deniesEnv(flags []string, name string) bool {
	for _, f := range flags {
		if names, ok := strings.CutPrefix(f, "--deny-env="); ok && listed(names, name) {
			return true
		}
	}
	return false
}

// deniesLoopback tells whether a --deny-net list covers 127.0.0.1 on every
// port: the address itself, or a range holding it, without a port.
func deniesLoopback(hosts string) bool {
	loopback := net.IPv4(127, 0, 0, 1)
	for host := range strings.SplitSeq(hosts, ",") {
		if _, ipnet, err := net.ParseCIDR(host); err == nil && ipnet.Contains(loopback) {
			return true
		}
		if ip := net.ParseIP(host); ip != nil && ip.Equal(loopback) {
			return true
		}
	}
	return false
}

// runtimePermissions are the runtime's own needs, added to the function's
// flags: reading the bundle (and its source map), reading its settings,
// dialling its channel, and for runtime1 listening on a loopback port (which
// grants no connection). Deno unites two lists for one permission, but a list
// after a bare flag replaces it, so a need already covered by a bare flag (or
// --allow-all) is left out.
//
// Two things are denied to the function, whatever it is granted: the Runtime
// API (a function that called it could take and answer later invocations'
// events), and the runtime's cache, DENO_DIR (what a function wrote there
// would run in every later Deno process; Deno reads and writes its cache
// whatever the permissions). Deno checks a connection's resolved address, so
// no other name for the API's address gets through. With --allow-all nothing
// is denied: Deno then grants /proc/self and /dev/fd too, and the function may
// do whatever the sandbox's user can (docs/security.md).
func runtimePermissions(cfg config, channel string, listens bool) []string {
	net := channel
	if listens {
		net += ",127.0.0.1:0"
	}
	lists := map[string]string{
		"read": cfg.bundlePath + "," + cfg.bundlePath + ".map",
		"env":  strings.Join(runtimeEnv, ","),
		"net":  net,
	}
	allowsAll := slices.ContainsFunc(cfg.permissions, func(f string) bool { return f == "-A" || f == "--allow-all" })
	var flags []string
	for _, kind := range runtimeNeeds {
		if !allowsAll && !slices.Contains(cfg.permissions, "--allow-"+kind) {
			flags = append(flags, "--allow-"+kind+"="+lists[kind])
		}
	}
	if allowsAll {
		return flags
	}
	return append(flags, "--deny-net="+runtimeAPIAddresses(cfg.runtimeAPI), "--deny-read="+cfg.denoDir,
		"--deny-write="+cfg.denoDir)
}

// runtimeAPIAddresses lists every address at which a connection could reach
// the Runtime API: as given, and on its port every loopback address and the
// unspecified ones (a connection to 0.0.0.0 or :: reaches a loopback
// listener on Linux).
func runtimeAPIAddresses(api string) string {
	_, port, err := net.SplitHostPort(api)
	if err != nil {
		return api
	}
	return strings.Join([]string{api, "127.0.0.0/8:" + port, "0.0.0.0:" + port, "[::1]:" + port, "[::]:" + port}, ",")
}
