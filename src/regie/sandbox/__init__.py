"""regie.sandbox"""
