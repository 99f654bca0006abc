module github.com/gohap/gohap

go 1.26.8

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/gorilla/websocket v1.5.3
	github.com/spf13/cobra v1.10.2
	go.uber.org/zap v1.28.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	go.uber.org/multierr v1.10.0 // indirect
)
