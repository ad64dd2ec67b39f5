"""The web remote's server (`backline web`, the backline-web unit): the page and an HTTP +
WebSocket API on the LAN, talking to the daemon only through its control socket
(docs/remote.md). A process of its own: if it dies, the audio plays on."""
