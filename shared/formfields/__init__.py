"""Form fields, shared by the services that show or check forms: a field's definition, the values
it accepts and how they are checked and stored. Workflow's templates are made of them; intake
checks an H5 form against the fields of the template version it showed. Pure: no I/O."""
