print("seismo")
