module github.com/zoogen/zoogen/bench

go 1.26.8

replace github.com/zoogen/zoogen => ../
