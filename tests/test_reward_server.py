"""The course's loopback HTTP servers (reward model, scripted chat) answer without Nagle stalls."""

from __future__ import annotations

import socket

from verlings.fixtures.reward_server import _listening_socket


def test_accepted_connections_have_tcp_nodelay():
    # uvicorn writes a reply's headers and body separately; without TCP_NODELAY on the connection the
    # body waits for the client's delayed ACK (~40 ms a request on a kept-alive connection: a graded
    # chapter 04 run made ~120 such calls). Accepted sockets inherit the option from the listener.
    with _listening_socket() as listener, socket.create_connection(listener.getsockname(), timeout=5):
        conn, _ = listener.accept()
        with conn:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0, (
                "the server side of a connection has Nagle's algorithm on: set TCP_NODELAY on the listening socket"
            )
