package runtime

// Every test of the package runs with the check that a stream's scratch
// is left zero by its clear: a section written without its used mark
// would otherwise carry its values to a later stream.
func init() { verifyScratchClear = true }
