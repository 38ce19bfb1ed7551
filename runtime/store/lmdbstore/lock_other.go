//go:build !unix

package lmdbstore

import "io/fs"

// lockDir does nothing where flock does not exist; there is no boot id to
// check there either.
func lockDir(string) (unlock func(), err error) { return func() {}, nil }

// diskUsage returns the size of the file.
func diskUsage(fi fs.FileInfo) int64 { return fi.Size() }

// envUnused reports false where the store cannot tell whether another
// process has the environment open: the file is then not verified.
func envUnused(string) (bool, error) { return false, nil }
