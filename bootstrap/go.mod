module github.com/deno-lambda/runtime/bootstrap

go 1.24
