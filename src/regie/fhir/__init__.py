"""regie.fhir"""
