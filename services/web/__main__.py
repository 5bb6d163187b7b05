from shared.serve import serve

serve("web")
