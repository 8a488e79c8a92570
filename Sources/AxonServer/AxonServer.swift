/// AxonServer: the daemon as a library.
