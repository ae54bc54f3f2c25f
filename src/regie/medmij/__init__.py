"""regie.medmij"""
