"""The patient\x27s own data: self-measurements, symptom diary, notes, appointments."""
