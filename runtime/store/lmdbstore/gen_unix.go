//go:build unix

package lmdbstore

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// genSize is the size of the generation file: one page, of which the
// counter takes the first eight bytes.
const genSize = 4096

// openGen maps the directory's generation file (see genCounter), creating
// it if need be.
func openGen(dir string) (*genCounter, error) {
	f, err := os.OpenFile(filepath.Join(dir, genFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < genSize {
		if err := f.Truncate(genSize); err != nil {
			return nil, fmt.Errorf("sizing %s: %w", genFile, err)
		}
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, genSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", genFile, err)
	}
	// A map starts on a page boundary: the counter is aligned.
	return &genCounter{b: b, n: (*atomic.Uint64)(unsafe.Pointer(&b[0]))}, nil
}

// close unmaps the file. No load or add may follow or run meanwhile.
func (g *genCounter) close() error {
	if g == nil {
		return nil
	}
	return syscall.Munmap(g.b)
}
