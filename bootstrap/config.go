package main

import (
	"errors"
	"fmt"
	"github.com/deno-lambda/runtime/bootstrap/internal/runtimeapi"
	"os"
	"path"
	"path/filepath"
	"strings"
)

const (
	defaultHandler  = "function.handler"
	defaultTaskRoot = "/var/task"
	defaultTmpDir   = "/tmp"
	bundleSuffix    = ".bundle.js"
	runtimeJSName   = "runtime.js"
)

// config is everything the bootstrap needs to know, resolved once at init.
type config struct {
	runtimeAPI  string   // host:port of the Runtime API
	handler     string   // _HANDLER as given
	exportPath  string   // the export to call, may be nested ("a.b")
	bundlePath  string   // the function bundle to import
	runtimeJS   string   // the JavaScript bridge beside the bootstrap
	denoPath    string   // the deno executable
	tmpDir      string   // the writable directory
	denoDir     string   // DENO_DIR, always under tmpDir
	layerDir    string   // the directory holding the bootstrap (/opt on Lambda)
	taskRoot    string   // LAMBDA_TASK_ROOT
	jsonLogs    bool     // AWS_LAMBDA_LOG_FORMAT=JSON
	permissions []string // the function's Deno permission flags
	timeout     runtimeapi.Timeout
	concurrency int // invocations at once (Managed Instances); 0 on demand
	workers     int // runtime1's Deno processes (concurrency.go)
}

// errNoRuntimeAPI means there is nobody to report an init error to.
var errNoRuntimeAPI = errors.New("AWS_LAMBDA_RUNTIME_API is not set: the bootstrap must be started by Lambda or an emulator")

// loadConfig resolves the configuration from the environment and the location
// of the bootstrap executable. A missing Runtime API address is returned as a
// plain error; every other problem is a *functionError to post to
// /runtime/init/error, returned together with the partial config.
func loadConfig(getenv func(string) string, exePath string) (config, error) {
	c := config{
		runtimeAPI: getenv("AWS_LAMBDA_RUNTIME_API"),
		handler:    orDefault(getenv("_HANDLER"), defaultHandler),
		taskRoot:   orDefault(getenv("LAMBDA_TASK_ROOT"), defaultTaskRoot),
		tmpDir:     orDefault(getenv("TMPDIR"), defaultTmpDir),
		layerDir:   filepath.Dir(exePath),
		jsonLogs:   strings.EqualFold(getenv("AWS_LAMBDA_LOG_FORMAT"), "JSON"),
	}
	c.denoDir = filepath.Join(c.tmpDir, "deno-dir")
	if c.runtimeAPI == "" {
		return c, errNoRuntimeAPI
	}

	module, export, err := splitHandler(c.handler)
	if err != nil {
		return c, err
	}
	c.exportPath = export

	c.runtimeJS = filepath.Join(c.layerDir, runtimeJSName)
	if !isFile(c.runtimeJS) {
		return c, newInitError("Runtime.InvalidEntrypoint",
			fmt.Sprintf("Cannot start the runtime: %s not found beside the bootstrap", c.runtimeJS))
	}

	c.denoPath, err = findDeno(c.layerDir, getenv("PATH"))
	if err != nil {
		return c, err
	}

	c.bundlePath, err = findBundle(module, c.taskRoot, c.layerDir)
	if err != nil {
		return c, err
	}
	c.timeout = runtimeapi.FunctionTimeout(getenv("AWS_LAMBDA_FUNCTION_TIMEOUT"))
	c.concurrency, c.workers, err = concurrencyOf(getenv, cpuCount)
	if err != nil {
		return c, err
	}
	c.permissions, err = parsePermissions(getenv(permissionsVar), c)
	return c, err
}

// splitHandler splits "<module>.<export>" the way the Node.js runtime does: the
// module is everything up to the first dot of the last path segment, and the
// export may be a nested property path.
func splitHandler(handler string) (module, export string, err error) {
	dir, base := path.Split(handler)
	name, export, found := strings.Cut(base, ".")
	if !found || name == "" || export == "" || strings.HasSuffix(export, ".") {
		return "", "", newInitError("Runtime.MalformedHandlerName",
			fmt.Sprintf("Bad handler %q: expected <module>.<export>, for example %q", handler, defaultHandler))
	}
	return dir + name, export, nil
}

// findDeno looks for bin/deno beside the bootstrap (the Deno layer unpacks
// there too), then on PATH.
func findDeno(layerDir, pathEnv string) (string, error) {
	beside := filepath.Join(layerDir, "bin", "deno")
	if isExecutable(beside) {
		return beside, nil
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if candidate := filepath.Join(dir, "deno"); dir != "" && isExecutable(candidate) {
			return candidate, nil
		}
	}
	return "", newInitError("Runtime.DenoNotFound",
		fmt.Sprintf("Cannot start the runtime: deno not found at %s or on PATH; add the Deno layer to the function", beside))
}

// findBundle prefers the function's bundle and falls back to the runtime
// layer's dummy bundle.
func findBundle(module, taskRoot, layerDir string) (string, error) {
	for _, dir := range []string{taskRoot, layerDir} {
		candidate := filepath.Join(dir, filepath.FromSlash(module)+bundleSuffix)
		if isFile(candidate) {
			return candidate, nil
		}
	}
	return "", newInitError("Runtime.ImportModuleError",
		fmt.Sprintf("Cannot find module %q: no %s in %s or %s", module, module+bundleSuffix, taskRoot, layerDir))
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
