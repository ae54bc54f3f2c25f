"""regie.record"""
