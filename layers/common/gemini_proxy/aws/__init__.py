"""AWS glue: Secrets Manager, the Lambda entry points."""
