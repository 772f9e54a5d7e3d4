package live

// Stats are one capture point's counters since it was opened.
type Stats struct {
	Interface      string
	Received       int64 // packets handed to the program, each once (see the package documentation on loopback)
	KernelDrops    int64 // packets the kernel dropped because the ring was full
	InterfaceDrops int64 // the interface's own receive drops; -1 when unknown
}
