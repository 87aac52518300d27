print("netstore-server: not implemented yet")
