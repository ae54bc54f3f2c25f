"""regie.accounts"""
