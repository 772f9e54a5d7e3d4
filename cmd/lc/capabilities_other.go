//go:build !linux

package main

// dropCapabilities does nothing: capabilities are a Linux matter.
func dropCapabilities() (dropped bool, err error) { return false, nil }
