"""regie.web"""
