module github.com/zoogen/zoogen/bench

go 1.26.8

replace github.com/zoogen/zoogen => ../

tool github.com/zoogen/zoogen/cmd/zoogen

require (
	github.com/dave/jennifer v1.7.1 // indirect
	github.com/zoogen/zoogen v0.0.0-00010101000000-000000000000 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)
