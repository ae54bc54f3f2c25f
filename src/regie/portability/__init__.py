"""Taking the record along: the full export archive, its import into another Regie,
the portability report, the International Patient Summary and the PDF summary.

See docs/portability.md. Modules, one job each:

* :mod:`.rows`: reading one user's stored resources in chunks (a scoped repository).
* :mod:`.layout`: the archive's names, format version and limits.
* :mod:`.archive`: writing the archive as a stream of bytes (zip, constant memory).
* :mod:`.extras`: the registry other packages plug their JSON sections into.
* :mod:`.importer`: reading an archive safely and importing it in one transaction.
* :mod:`.report`: which services were collected from which providers.
* :mod:`.ips`: the IPS FHIR R4 document Bundle.
* :mod:`.pdf`: the printable summary.
* :mod:`.service`: the entry points for the CLI and the web (audited).
"""
