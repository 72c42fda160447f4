print("vitexport")
