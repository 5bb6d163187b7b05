from shared.serve import serve

serve("analytics")
