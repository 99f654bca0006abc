//go:build !race

package runtime_test

const raceBuild = false
