package lmdbstore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// Names of the store's files in its directory, beside LMDB's data.mdb and
// lock.mdb.
const (
	bootFile = "boot_id"  // the boot the file was last opened in
	lockFile = "zoo.lock" // locked while a process opens the store
)

// bootIDPath is where the kernel tells its boot id, which changes at every
// boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// bootID returns the id of the running boot, or "" if the system does not
// tell it. Tests replace it.
var bootID = func() string {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}

// checkBoot empties the store if the host has rebooted since the file was
// last opened: the environment is opened without fsync (see the package
// documentation), so after a crash of the system the file may have lost
// its last transactions or be damaged, and nothing in it can be trusted.
// Called with the directory locked, before the environment is opened: no
// process of this boot has the file open, since it would have recorded
// this boot.
func checkBoot(dir string, logger *slog.Logger) error {
	id := bootID()
	if id == "" {
		return nil // unknown: keep the file (see the package documentation)
	}
	path := filepath.Join(dir, bootFile)
	prev, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if string(prev) == id {
		return nil
	}
	data := filepath.Join(dir, "data.mdb")
	if _, err := os.Stat(data); err == nil {
		logger.Warn("zoo: lmdbstore: the host has rebooted since the cache file was last used; starting from an empty file",
			slog.String("dir", dir))
		if err := resetFiles(dir); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("recording the boot id: %w", err)
	}
	return nil
}

// resetFiles removes the LMDB files of the store in dir, so that the
// environment is opened on an empty file. Called with the directory
// locked, when no process has the environment open.
func resetFiles(dir string) error {
	for _, name := range []string{"data.mdb", "lock.mdb"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// checkFile verifies the data file in dir before LMDB maps it (see
// verifyFile), and removes a damaged one, so that the store starts from an
// empty file instead of crashing the process: a cache file may be thrown
// away. Called with the directory locked. A file another process has open
// is left as it is: it cannot be read whole while that process writes, nor
// be replaced under it.
func checkFile(dir string, logger *slog.Logger) error {
	if !hostLayout() {
		return nil
	}
	unused, err := envUnused(dir)
	if err != nil || !unused {
		return err
	}
	err = verifyFile(filepath.Join(dir, "data.mdb"))
	if !errors.Is(err, errDamaged) {
		return err
	}
	logger.Warn("zoo: lmdbstore: the cache file is damaged; starting from an empty file",
		slog.String("dir", dir), slog.String("reason", err.Error()))
	return resetFiles(dir)
}

// fileSize returns the size of the data file and the bytes it occupies on
// disk.
func fileSize(dir string) (size, disk int64) {
	fi, err := os.Stat(filepath.Join(dir, "data.mdb"))
	if err != nil {
		return 0, 0
	}
	return fi.Size(), diskUsage(fi)
}
