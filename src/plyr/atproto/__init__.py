"""AT Protocol building blocks: identifier syntax, TIDs, DAG-CBOR records, signatures."""
