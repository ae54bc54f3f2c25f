"""Questionnaires from care providers (MedMij service 906, Vragenlijsten, STU3): find
tasks, accept one, fetch its Questionnaire, fill it in (drafts encrypted), and send the
QuestionnaireResponse with the Task update as a ``transaction`` Bundle (docs/share.md)."""
