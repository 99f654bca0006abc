//go:build race

package runtime_test

// raceBuild: the race detector allocates on its own, so allocation
// counts are only checked without it.
const raceBuild = true
