<?php
// binotel_client.php URL KEY SECRET PARAMS_JSON
//
// One request to celbridge's API made the way the CRM (PHP) makes it to Binotel's API: the
// parameters sorted by name, signature = md5(secret . json_encode(params)), then key and
// signature added, the whole sent as a JSON POST body. It checks the answer's signature the
// same way and prints {"http": status, "signature_ok": bool, "body": answer}. This is the
// independent implementation the end-to-end test signs with; it shares no code with Go.
[, $url, $key, $secret, $json] = $argv;
$params = json_decode($json, true);
ksort($params);
$params['signature'] = md5($secret . json_encode($params));
$params['key'] = $key;
$ctx = stream_context_create(['http' => [
    'method' => 'POST',
    'header' => "Content-Type: application/json\r\n",
    'content' => json_encode($params),
    'ignore_errors' => true,
    'timeout' => 10,
]]);
$body = @file_get_contents($url, false, $ctx);
$status = 0;
if (isset($http_response_header[0]) && preg_match('{^HTTP/\S+ (\d+)}', $http_response_header[0], $m)) {
    $status = (int)$m[1];
}
$ok = false;
$answer = json_decode((string)$body, true);
if (is_array($answer) && isset($answer['signature'])) {
    $sig = $answer['signature'];
    unset($answer['signature']);
    ksort($answer);
    $ok = md5($secret . json_encode($answer)) === $sig;
}
echo json_encode(['http' => $status, 'signature_ok' => $ok, 'body' => (string)$body]);
