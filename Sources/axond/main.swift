print("axond")
