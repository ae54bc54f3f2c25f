"""regie.cli"""
