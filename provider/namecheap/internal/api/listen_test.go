package api

import "net"

var netListen = net.Listen
