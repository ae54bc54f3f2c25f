"""regie.store"""
