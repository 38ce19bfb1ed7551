// Command zoogen writes typed caching decorators for annotated repository
// interfaces. Run it through go generate:
//
//	//go:generate go tool zoogen
//
// With no arguments it generates for the package in the current directory;
// it also takes package patterns (./...). Flags:
//
//	-check        write nothing; exit 1 and list the files that are stale
//	-debug-model  print the model the annotations produce, as JSON
//	-graph        write nothing; print, for each //zoo:invalidate method, the
//	              cached reads its tags expire and through which tag prefix,
//	              and the cached reads no write invalidates; -graph=dot
//	              prints it as Graphviz dot
//	-tags list    build tags to load the packages with
//
// Problems are reported as file:line:col: Method: message, every one of a
// run, with exit status 1; nothing is written unless every interface
// succeeds. Usage errors exit with status 2.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
