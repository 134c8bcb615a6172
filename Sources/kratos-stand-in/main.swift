print("kratos-stand-in: not built yet")
