-- wrk script: POST a small JSON body (exercises body collection and the async echo route).
wrk.method = "POST"
wrk.body = '{"instances": [[1.0, 2.0, 5.0], [0.5, 0.25, 0.125]]}'
wrk.headers["Content-Type"] = "application/json"
