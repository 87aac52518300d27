print("netstore: not implemented yet")
