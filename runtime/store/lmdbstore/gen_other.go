//go:build !unix

package lmdbstore

// openGen returns no counter where the store cannot map a file the
// processes share: every strict check then reads the file.
func openGen(string) (*genCounter, error) { return nil, nil }

func (g *genCounter) close() error { return nil }
